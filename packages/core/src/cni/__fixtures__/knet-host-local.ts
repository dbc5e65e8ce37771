/** knet's host-local as a CNI executable, bundled by tests (`bundleExecutable`). */
import { createHostLocalCniPlugin, runCniPluginMain } from '../../index.js';

await runCniPluginMain(createHostLocalCniPlugin({ about: 'CNI plugin knet host-local (test build)' }));
