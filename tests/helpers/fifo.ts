// A FIFO for tests of "non-regular files are refused". If the code under test wrongly opens it for reading,
// the open would block forever; a helper process opens the write end after a delay so that such a read ends
// (with empty content, and the test's assertion fails) instead of hanging the test run. It gives up by itself.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";

export interface TestFifo {
  path: string;
  close(): void;
}

export function makeFifo(file: string, unblockAfterS = 3): TestFifo {
  execFileSync("mkfifo", [file]);
  const writer: ChildProcess = spawn(
    "timeout",
    [String(unblockAfterS + 10), "sh", "-c", `sleep ${unblockAfterS}; : > "$1"`, "sh", file],
    { stdio: "ignore" },
  );
  writer.unref();
  return { path: file, close: () => void writer.kill() };
}
