/**
 * The command line's compact LoRA setting: `r=8,alpha=16,dropout=0.05,targets=query_key_value+dense,rslora`
 * (targets joined by `+`, or `targets=/regex/` for a pattern; `layers=0+1` for `layersToTransform`).
 */
import { type LoraConfig, LoraError, resolveLoraConfig } from "./config";

/**
 * Parse a `--lora` value into a checked config.
 *
 * @example
 * parseLoraSpec("r=8,alpha=16").alpha;                      // 16
 * parseLoraSpec("r=4,targets=query_key_value+dense").targetModules; // ["query_key_value", "dense"]
 * parseLoraSpec("targets=/.+mlp.+/").targetModules;          // ".+mlp.+" (a regular expression)
 */
export function parseLoraSpec(spec: string, flag = "--lora"): LoraConfig {
  const out: Partial<LoraConfig> = {};
  const parts = spec.trim() === "" ? [] : spec.split(",");
  for (const raw of parts) {
    const part = raw.trim();
    const eq = part.indexOf("=");
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    const value = eq < 0 ? "" : part.slice(eq + 1).trim();
    const num = (what: string) => {
      const n = Number(value);
      if (value === "" || !Number.isFinite(n))
        throw new LoraError(`${flag}: ${key} must be a number (${what}), got ${JSON.stringify(value)}`);
      return n;
    };
    switch (key) {
      case "r":
      case "rank":
        out.r = num("the rank");
        break;
      case "alpha":
      case "lora_alpha":
        out.alpha = num("the scaling numerator");
        break;
      case "dropout":
      case "lora_dropout":
        out.dropout = num("a probability");
        break;
      case "targets":
      case "target_modules":
        if (!value) throw new LoraError(`${flag}: targets is empty`);
        out.targetModules =
          value.length > 2 && value.startsWith("/") && value.endsWith("/")
            ? value.slice(1, -1)
            : value
                .split("+")
                .map((s) => s.trim())
                .filter(Boolean);
        break;
      case "layers":
        out.layersToTransform = value.split("+").map((s) => {
          const i = Number(s);
          if (!Number.isInteger(i) || i < 0)
            throw new LoraError(`${flag}: layers must be block indices joined by +, got ${JSON.stringify(value)}`);
          return i;
        });
        break;
      case "rslora":
        out.useRslora = value === "" || value === "true" || value === "1";
        break;
      default:
        throw new LoraError(
          `${flag}: unknown key ${JSON.stringify(key)} in ${JSON.stringify(spec)}; use r, alpha, dropout, targets, layers, rslora (e.g. r=8,alpha=16,targets=query_key_value+dense)`,
        );
    }
  }
  return resolveLoraConfig(out, flag);
}
