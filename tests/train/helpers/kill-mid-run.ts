// Child process for resume-modes.test.ts: trains one mode (argv[3]) with a checkpoint every 2 updates and kills
// itself with SIGKILL right after update 3 (no cleanup, nothing saved for step 3): a crash between checkpoints.
import { useTestBackend } from "../../helpers/backend";
import { Trainer } from "../../../src/train/trainer";
import { DATA, modeNamed } from "./resume-modes";

async function main() {
  await useTestBackend();
  const [dir, mode] = process.argv.slice(2);
  const m = modeNamed(mode);
  const built = m.build(1);
  const trainer = new Trainer(
    built.trainable,
    DATA,
    { ...m.config, checkpointDir: dir, checkpointEvery: 2 },
    {
      onStep: (s) => {
        if (s.step === 3) process.kill(process.pid, "SIGKILL");
      },
    },
  );
  await trainer.train();
}
main();
