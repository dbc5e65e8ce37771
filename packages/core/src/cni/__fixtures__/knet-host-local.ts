/** knet's host-local as a CNI executable, bundled by tests (`bundleExecutable`). */
import { createHostLocalCniPlugin, runCniPluginMain } from '../../linux.js';

await runCniPluginMain(createHostLocalCniPlugin({ about: 'CNI plugin knet host-local (test build)' }));
