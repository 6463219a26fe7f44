// A FIFO for tests of "non-regular files are refused". If the code under test wrongly opens it for reading,
// the open would block forever; a helper process opens the write end after a delay (and again for every later
// reader) so that such a read ends (with empty content, and the test's assertion fails) instead of hanging the
// test run. It gives up by itself.
//
// The evidence that the FIFO was refused without being opened is `wasOpened()`, not elapsed time (a loaded
// machine can take longer than the delay even when nothing blocked). The writer's open of the write end only
// completes once some reader has the FIFO open, so the writer creates `<fifo>.opened` after its open completed,
// while still holding the write end: a reader that read to the end (EOF only comes once the writer closes) finds
// the marker there already. The code under test only stats the path before refusing it (runtime/files.ts), so
// nothing but a wrong read opens the FIFO. Without a reader the writer stays blocked in its open (no marker)
// until close() or its timeout ends it.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";

export interface TestFifo {
  path: string;
  /** True once some reader had the FIFO open when the writer came (it would have blocked until then). */
  wasOpened(): boolean;
  close(): void;
}

export function makeFifo(file: string, unblockAfterS = 3): TestFifo {
  execFileSync("mkfifo", [file]);
  const marker = `${file}.opened`;
  const writer: ChildProcess = spawn(
    "timeout",
    [
      String(unblockAfterS + 10),
      "sh",
      "-c",
      `sleep ${unblockAfterS}; while [ -p "$1" ] && { : > "$1.opened"; } 3> "$1"; do :; done`,
      "sh",
      file,
    ],
    { stdio: "ignore" },
  );
  writer.unref();
  return { path: file, wasOpened: () => fs.existsSync(marker), close: () => void writer.kill() };
}
