// Child process for the interrupted-save test: trains the tiny LM with checkpoints every 2 steps and kills
// itself with SIGKILL (no cleanup, no finally blocks) in the middle of writing the step-4 checkpoint.
import { useTestBackend } from "../../helpers/backend";
import { Trainer } from "../../../src/train/trainer";
import { TinyLM, toyExamples } from "./tiny-lm";
import { CRASH_CONFIG } from "./trainer-setup";

async function main() {
  await useTestBackend();
  const dir = process.argv[2];
  const trainer = new Trainer(
    new TinyLM(),
    toyExamples(10),
    { ...CRASH_CONFIG, checkpointDir: dir },
    {},
    {
      faultInjection: (stage) => {
        if (trainer.step === 4 && stage === "optimizer-written") process.kill(process.pid, "SIGKILL");
      },
    },
  );
  await trainer.train();
}
main();
