/**
 * Notebook 02 (data generation): questions with their documentation passage, the retrieval-augmented prompt,
 * answers the model picks from the passage, and the downstream check (does the generated data help a
 * fine-tuned model on held-out questions?).
 */
export { passagesFor, passageTemplate, DEFAULT_PASSAGE_OPTIONS } from "./passages";
export type { PassageQuestion, PassageOptions, PassageDemo } from "./passages";
export { extractiveAnswers } from "./extractive";
export type { ExtractiveOptions, ExtractiveAnswer } from "./extractive";
export { compareTrainingSets } from "./downstream";
export type { TrainingSetRow, CompareSetsOptions } from "./downstream";
export { usableCount, reportRows } from "./summary";
export type { UsableCount } from "./summary";
