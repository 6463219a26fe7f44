// Shared test setup: every test file that touches tensors calls `await useTestBackend()` first.
// Tests run on the WebAssembly backend (what CI has), quietly.
import { initBackend } from "../../src/runtime/backend";

export async function useTestBackend(): Promise<void> {
  await initBackend({ backend: process.env.TUNEBOOK_BACKEND || "wasm", verbose: false });
}

/** Path to the shared fixtures (../shared/fixtures next to the checkout; TUNEBOOK_FIXTURES overrides). */
import * as path from "node:path";
export const FIXTURES =
  process.env.TUNEBOOK_FIXTURES || path.resolve(__dirname, "..", "..", "..", "shared", "fixtures");
