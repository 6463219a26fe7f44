/**
 * The hub: Hugging Face repos (and local folders) -> files on disk in the Hugging Face cache layout, shared with
 * Python tools; resumable, verified, atomic downloads; offline resolution from the cache.
 *
 * @example
 * import { resolveModelDir, textProgress } from "./hub";
 * const dir = await resolveModelDir("EleutherAI/pythia-70m", { revision: "step3000", onProgress: textProgress() });
 */
export { hubCacheDir, isOffline, hubEndpoint, hubToken, DEFAULT_ENDPOINT } from "./env";
export { HubError } from "./errors";
export type { HubErrorCode } from "./errors";
export { isHubReachable } from "./http";
export type { DownloadProgress, ProgressCallback } from "./download";
export { resolveRepoFiles, parseModelSource, DEFAULT_RESOLVE_OPTIONS } from "./resolve";
export type { ResolveOptions, ResolvedFiles, ModelSource } from "./resolve";
export {
  resolveModelDir,
  readShardNames,
  MODEL_REQUIRED_FILES,
  MODEL_OPTIONAL_FILES,
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX_FILE,
} from "./model";
export type { ResolveModelOptions } from "./model";
export { textProgress, progressLine, formatBytes, DEFAULT_TEXT_PROGRESS } from "./progress";
export type { TextProgressOptions } from "./progress";
export { repoFolderName } from "./cache";
export { environmentReport, formatEnvironment } from "./environment";
export type { EnvironmentReport, EnvironmentOptions } from "./environment";
