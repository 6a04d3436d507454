"""transformers and peft, imported one thread at a time.

transformers loads its submodules lazily, on the first use of a name. When two threads import its names at once
(the server's background load of SmolLM2 while a request reads a LoRA run's text with SmolLM2's tokenizer), Python
can hand one of them the package while the other is still initialising it, and that import fails with "cannot import
name ... from 'transformers'". Every GenLab import of these packages goes through `names`, which holds one lock; the
first call for a package also loads every name GenLab uses from it, so later model loads find their modules ready.
"""

import importlib
import threading

_LOCK = threading.RLock()
_USED = {
    "transformers": (
        "AutoConfig",
        "AutoModelForCausalLM",
        "AutoTokenizer",
        "PreTrainedTokenizerFast",
        "LlamaForCausalLM",
    ),
    "peft": ("LoraConfig", "get_peft_model", "get_peft_model_state_dict", "set_peft_model_state_dict"),
}
_ready: set[str] = set()


def names(package: str, *attributes: str):
    """package's attributes (one value for one name, else a tuple), imported while no other thread imports."""
    with _LOCK:
        module = importlib.import_module(package)
        if package not in _ready:
            for name in _USED.get(package, ()):
                getattr(module, name)
            _ready.add(package)
        values = tuple(getattr(module, name) for name in attributes)
    return values[0] if len(values) == 1 else values
