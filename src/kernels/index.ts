/**
 * The one seam for the fast paths: every kernel the model, LoRA and training code call, each one function that
 * runs the implementation set chosen for the backend (select.ts: `blas` when the wasm backend's matmuls run on a
 * native BLAS, `plain` otherwise), and every read of a tfjs internal (tfjs-internals.ts). Code outside this folder
 * never branches on the backend or on BLAS.
 *
 * Published as `tunebook/kernels` for people who extend tunebook: internal, with no stability promise.
 */
export { selectKernels, kernelSet, type KernelSetName } from "./select";
export {
  syncReads,
  readSync,
  runReads,
  runReadsAsync,
  sumTensors,
  SyncReadError,
  WEBGPU_MAX_KERNEL_INPUTS,
  type Reads,
} from "./reads";
export { customOp, type GradResult } from "./custom-op";
export { leanReshape, leanAdd, leanScale, addMask } from "./lean-ops";
export { linear, frozenLinear, colSum, withTransposedWeights, TRANSPOSED_MAX_ROWS } from "./linear";
export { loraLinear, type LoraTerm } from "./lora-linear";
export { bmm, attentionScores, attentionValues } from "./attention";
export { rotate } from "./rotary";
export { fusedHeadLoss, type FusedHeadLossOptions } from "./head-loss";
export { fusedAdamW, type FusedAdamWStep } from "./adamw";
export { gelu, geluPlain } from "./gelu";
export { layerNorm, layerNormPlain } from "./layer-norm";
export { splitHeads, splitHeadsRotary } from "./qkv-heads";
export { leanVariableGrads, squaredNorm } from "./lean-grads";
export { gradientDepth } from "./tfjs-internals";
export { shareClonesOnWasm } from "./share-clones";
export { fillableTensor, type FillableTensor } from "./heap-tensor";
export { startThreadedWasm, WASM_THREADS_ENV } from "./wasm-threads";
export {
  nativeBlasStatus,
  nativeMatMulActive,
  matmulEngine,
  installNativeMatMul,
  uninstallNativeMatMul,
  BLAS_ENV,
} from "./native-blas";
export type { NativeBlasStatus } from "./native-blas";
export { heapWorkerStats, HEAP_WORKERS_ENV } from "./heap-workers";
