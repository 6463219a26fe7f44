/** `tunebook/runtime`: backend choice, seeding, the machine's facts and atomic writes. */
export {
  initBackend,
  backendReport,
  currentBackend,
  parseBackendName,
  BACKENDS,
  BackendError,
} from "./backend";
export type { BackendName, BackendChoice, InitBackendOptions } from "./backend";
export { Rng } from "./seed";
export { machineReport } from "./environment";
export type { MachineReport } from "./environment";
export { writeFileAtomic } from "./atomic";
