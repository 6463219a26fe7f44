"""The Hugging Face side of the interop tests: load tunebook's files with the real transformers / PEFT (and make
PEFT adapters for tunebook to load), print logits as JSON on stdout. Loader warnings go to stderr untouched, so the
tests can assert there are none.

    hf_tool.py model DIR IDS_JSON                      logits of a saved model (transformers)
    hf_tool.py adapter BASE ADAPTER IDS_JSON [--rslora] logits of BASE + a saved adapter (PEFT); --rslora sets each
                                                        layer's scaling to lora_alpha/sqrt(r) by hand (PEFT < 0.8
                                                        has no use_rslora), and also reports PEFT's own logits
    hf_tool.py make-adapter BASE OUT SPEC_JSON IDS_JSON a PEFT LoRA adapter made and saved by PEFT (random A and B),
                                                        and its logits
"""
import json
import math
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM

transformers.logging.set_verbosity_warning()  # the default; said here because the tests read these warnings


def logits_of(model, ids):
    with torch.no_grad():
        out = model(input_ids=torch.tensor(ids)).logits
    return {"shape": list(out.shape), "data": out.flatten().tolist()}


def load_base(path):
    model = AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32)
    model.eval()
    return model


def cmd_model(path, ids_json):
    print(json.dumps({"logits": logits_of(load_base(path), json.loads(ids_json)), "versions": versions()}))


def cmd_adapter(base, adapter, ids_json, *flags):
    from peft import PeftModel

    ids = json.loads(ids_json)
    model = PeftModel.from_pretrained(load_base(base), adapter)
    model.eval()
    result = {"versions": versions(), "peft_logits": logits_of(model, ids)}
    if "--rslora" in flags:
        cfg = model.peft_config["default"]
        fixed = 0
        for module in model.modules():
            if hasattr(module, "scaling") and isinstance(module.scaling, dict) and "default" in module.scaling:
                module.scaling["default"] = cfg.lora_alpha / math.sqrt(cfg.r)
                fixed += 1
        result["rslora_modules"] = fixed
        result["logits"] = logits_of(model, ids)
    else:
        result["logits"] = result["peft_logits"]
    # Module names in the transformers model (PeftModel adds "base_model.model."), as tunebook names them.
    result["targets"] = sorted(
        name.replace("base_model.model.", "", 1)
        for name, m in model.named_modules()
        if hasattr(m, "lora_A") and "default" in getattr(m, "lora_A", {})
    )
    print(json.dumps(result))


def cmd_make_adapter(base, out, spec_json, ids_json):
    from peft import LoraConfig, get_peft_model

    spec = json.loads(spec_json)
    torch.manual_seed(spec.get("seed", 0))
    model = get_peft_model(load_base(base), LoraConfig(task_type="CAUSAL_LM", **spec["config"]))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name or "lora_A" in name:
                p.copy_(0.3 * torch.randn_like(p))  # PEFT's B starts at zero: make the adapter matter
    model.eval()
    model.save_pretrained(out, safe_serialization=True)
    print(json.dumps({"logits": logits_of(model, json.loads(ids_json)), "versions": versions()}))


def versions():
    import peft

    return {"transformers": transformers.__version__, "peft": peft.__version__, "torch": torch.__version__}


if __name__ == "__main__":
    commands = {"model": cmd_model, "adapter": cmd_adapter, "make-adapter": cmd_make_adapter}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: hf_tool.py {{{'|'.join(commands)}}} ...")
    commands[sys.argv[1]](*sys.argv[2:])
