/** `tunebook/runtime`: backend choice, seeding, the machine's facts and atomic writes. */
export {
  initBackend,
  backendReport,
  currentBackend,
  parseBackendName,
  BACKENDS,
  BackendError,
  softwareAdapter,
} from "./backend";
export type { BackendName, BackendChoice, InitBackendOptions } from "./backend";
export {
  findSoftwareVulkan,
  defaultLavapipeDir,
  VULKAN_ICD_ENV,
  LAVAPIPE_INSTALL_SCRIPT,
  type SoftwareVulkan,
} from "./software-vulkan";
export { Rng } from "./seed";
export { machineReport } from "./environment";
export type { MachineReport } from "./environment";
export { writeFileAtomic } from "./atomic";
