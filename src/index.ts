/**
 * tunebook — the public API, grouped by the course's flow: runtime → data → tokenizer → model →
 * train/lora → eval → display. Notebooks and user code import from here (`import { ... } from "tunebook"`).
 *
 * @example
 * import { initBackend } from "tunebook";
 * await initBackend();   // prints which backend was chosen and why
 */

// runtime
export { initBackend, backendReport, currentBackend, parseBackendName, BACKENDS, BackendError } from "./runtime/backend";
export type { BackendName, BackendChoice, InitBackendOptions } from "./runtime/backend";
export { Rng } from "./runtime/seed";
