import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { softwareAdapter } from "../../src/runtime/backend";
import { defaultLavapipeDir, findSoftwareVulkan } from "../../src/runtime/software-vulkan";

test("softwareAdapter: lavapipe, SwiftShader and fallback adapters are software; a real GPU is not", () => {
  const lavapipe = {
    vendor: "mesa",
    architecture: "software",
    device: "llvmpipe-llvm-15-0-6-256-bits-",
    description: "llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1",
    isFallbackAdapter: true,
  };
  assert.equal(softwareAdapter(lavapipe), true);
  assert.equal(softwareAdapter({ description: "llvmpipe (LLVM 15.0.6, 256 bits)" }), true, "by name alone");
  assert.equal(softwareAdapter({ vendor: "google", description: "SwiftShader Device (Subzero)" }), true);
  assert.equal(softwareAdapter({ isFallbackAdapter: true }), true);
  assert.equal(
    softwareAdapter({ vendor: "nvidia", architecture: "hopper", description: "NVIDIA H100 80GB HBM3" }),
    false,
  );
  assert.equal(softwareAdapter({ vendor: "amd", architecture: "rdna-3", description: "AMD Radeon RX 7900" }), false);
  assert.equal(softwareAdapter({}), false);
});

test("findSoftwareVulkan: the variable, else the default folder; says why and how to install when absent", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-lvp-"));
  try {
    const cache = path.join(dir, "cache");
    assert.equal(defaultLavapipeDir({ XDG_CACHE_HOME: cache }), path.join(cache, "tunebook", "lavapipe"));
    const none = findSoftwareVulkan({ XDG_CACHE_HOME: cache });
    assert.equal(none.found, false);
    assert.match(
      !none.found ? none.why : "",
      /TUNEBOOK_VULKAN_ICD is not set and .*lvp_icd\.json does not exist; install it with scripts\/install-lavapipe\.sh/,
    );

    const lvp = path.join(cache, "tunebook", "lavapipe");
    const lib = path.join(lvp, "root", "usr", "lib", "x86_64-linux-gnu", "libvulkan_lvp.so");
    fs.mkdirSync(path.dirname(lib), { recursive: true });
    fs.writeFileSync(lib, "");
    fs.writeFileSync(path.join(lvp, "lvp_icd.json"), JSON.stringify({ ICD: { library_path: lib } }));
    fs.writeFileSync(path.join(lvp, "driver-version"), "mesa-vulkan-drivers 25.0.7-2~bpo12+1");
    const found = findSoftwareVulkan({ XDG_CACHE_HOME: cache, LD_LIBRARY_PATH: "/opt/x" });
    assert.ok(found.found);
    if (found.found) {
      assert.equal(found.version, "mesa-vulkan-drivers 25.0.7-2~bpo12+1");
      assert.deepEqual(found.env, {
        VK_ICD_FILENAMES: path.join(lvp, "lvp_icd.json"),
        LD_LIBRARY_PATH: `${path.dirname(lib)}${path.delimiter}/opt/x`,
        XDG_RUNTIME_DIR: os.tmpdir(),
      });
    }

    const relative = path.join(dir, "relative.json");
    fs.writeFileSync(relative, JSON.stringify({ ICD: { library_path: "libvulkan_lvp.so" } }));
    const r = findSoftwareVulkan({ TUNEBOOK_VULKAN_ICD: relative });
    assert.match(
      !r.found ? r.why : "",
      /TUNEBOOK_VULKAN_ICD=.*relative\.json: ICD\.library_path "libvulkan_lvp\.so" is not an absolute path/,
    );
    const gone = findSoftwareVulkan({ TUNEBOOK_VULKAN_ICD: path.join(dir, "nope.json") });
    assert.match(!gone.found ? gone.why : "", /TUNEBOOK_VULKAN_ICD=.*nope\.json does not exist; install it with/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
