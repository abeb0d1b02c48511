import { MemoryFS } from '../../src/backends/memory.js';
import { runConformanceSuite } from '../../src/conformance/index.js';

runConformanceSuite('MemoryFS', async () => ({ fs: new MemoryFS() }));
