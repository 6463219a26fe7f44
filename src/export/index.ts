/**
 * Export a fine-tuning job to the tools people run at scale: Hugging Face transformers/PEFT + accelerate
 * (DeepSpeed ZeRO as the sizing calculator decides) and axolotl; the result comes back through tunebook's
 * loaders (`loadModel`, `loadAdapter`) and `tunebook eval`.
 *
 * @example
 * import { exportJob } from "./export";
 * const { out, plan } = await exportJob({ out: "runs/cluster-job", model: "default", data: "email-subject", lora: "r=8,alpha=16" });
 */
export { exportJob, DEFAULT_EXPORT, ENGINES, ExportError } from "./export";
export type { ExportOptions, ExportResult, ExportHooks, Engine } from "./export";
export {
  clusterPlan,
  planAttemptRows,
  planSummaryRows,
  DEFAULT_CLUSTER_PLAN,
  PRECISIONS,
  ExportPlanError,
} from "./plan";
export type { ClusterPlan, ClusterPlanOptions, PlanAttempt, Precision } from "./plan";
export { toHfArgs, recordsHash, sha256, jobRequirements, pipRequirements, JOB_FORMAT, JOB_VERSION } from "./job";
export type { ExportedJob, HfArgs, PeftLora, Requirements, SplitInfo } from "./job";
export { renderRows, recordsFromRows, datasetCard, RENDERED_FIELDS, ExportDataError } from "./dataset";
export type { CardInfo } from "./dataset";
export { trainScript, pyLiteral, JOB_BEGIN, JOB_END } from "./hf-script";
export { accelerateConfig, deepspeedConfig, axolotlConfig, toYaml } from "./configs";
export { exportReadme, evalCommand, exportSummary } from "./readme";
