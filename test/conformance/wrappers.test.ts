import { MemoryFS } from '../../src/backends/memory.js';
import { runConformanceSuite } from '../../src/conformance/index.js';
import { MountFS } from '../../src/fs/wrappers/mount.js';
import { SubFS } from '../../src/fs/wrappers/sub.js';

// A sub-directory two levels down, with a sibling outside it, so a path that escaped would land somewhere real.
runConformanceSuite('SubFS over MemoryFS', async () => {
  const inner = new MemoryFS();
  await inner.mkdir('/srv');
  await inner.mkdir('/srv/home');
  await inner.writeFile('/srv/outside', 'not for the view');
  return { fs: new SubFS(inner, '/srv/home') };
});

// Everything at one mount at /: the table must be transparent.
runConformanceSuite('MountFS with MemoryFS at /', async () => ({ fs: new MountFS({ '/': new MemoryFS() }) }));

// The suite works at /, so a view re-roots it inside a mount point: paths cross the table on every call.
runConformanceSuite('MountFS with MemoryFS at /data (seen through SubFS /data)', async () => {
  const mounts = new MountFS({ '/data': new MemoryFS(), '/other': new MemoryFS() });
  return { fs: new SubFS(mounts, '/data') };
});
