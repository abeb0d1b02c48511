import { runConformanceSuite } from '../../src/conformance/index.js';
import { MapFS } from '../../examples/custom-backend.js';

// The example backend must stay a correct one: it is what people copy.
runConformanceSuite('examples/custom-backend.ts MapFS', async () => ({ fs: new MapFS() }), { symlinks: false, hardlinks: false });
