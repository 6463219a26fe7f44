"""A stand-in tokenizer for the train.py interop test, and nothing else.

The Rust `tokenizers` package is not installed on these machines, so transformers' AutoTokenizer cannot load a
GPT-NeoX tokenizer.json (there is no slow GPT-NeoX tokenizer). When TUNEBOOK_STANDIN_TOKENS names a JSON file
{"enc": {"1"+prompt or "0"+completion: ids}, "eos": id, "pad": id} holding the ids tunebook's own tokenizer gave
each exported prompt (with special tokens) and completion (without), AutoTokenizer.from_pretrained returns a
tokenizer that looks them up; everything else in train.py is the real transformers/PEFT/accelerate code. Python
imports sitecustomize at start-up from PYTHONPATH, so the process `accelerate launch` starts gets it too.
"""
import json
import os

_FILE = os.environ.get("TUNEBOOK_STANDIN_TOKENS")

if _FILE:
    import transformers
    import transformers.models.bert as _bert
    from transformers.utils import dummy_tokenizers_objects as _dummies

    # transformers 4.31's data_collator imports BertTokenizerFast by name, which only exists with `tokenizers`
    # installed (a hard dependency of a normal install): give it the placeholder transformers itself ships.
    _bert.BertTokenizerFast = _dummies.BertTokenizerFast

    class StandInTokenizer:
        def __init__(self, table):
            self.enc = table["enc"]
            self.eos_token_id = table["eos"]
            self.pad_token_id = table["pad"]

        def __call__(self, text, add_special_tokens=True):
            key = ("1" if add_special_tokens else "0") + text
            if key not in self.enc:
                raise KeyError(f"stand-in tokenizer: no ids for {key[:60]!r} (the test tokenizes every exported row)")
            return {"input_ids": list(self.enc[key])}

        def save_pretrained(self, out_dir):
            os.makedirs(out_dir, exist_ok=True)
            with open(os.path.join(out_dir, "standin_tokenizer.json"), "w", encoding="utf-8") as f:
                json.dump({"stand_in": True}, f)

    def _from_pretrained(*args, **kwargs):
        with open(_FILE, encoding="utf-8") as f:
            return StandInTokenizer(json.load(f))

    transformers.AutoTokenizer.from_pretrained = staticmethod(_from_pretrained)
