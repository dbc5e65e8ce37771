/** The plugin configuration both conformance suites (one-shot and through the agent) run with. */
export const pluginConf = ({ dataDir }: { dataDir: string }) => ({
  type: 'knet-kubenet',
  bridge: 'cbr0',
  mtu: 1500,
  isGateway: true,
  ipMasq: false,
  hairpinMode: false,
  promiscMode: true,
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir },
});

/** A configuration the plugin must refuse with code 7: `hairpinMode` and `promiscMode` together. */
export const invalidPluginConf = (ctx: { dataDir: string }) => ({ ...pluginConf(ctx), hairpinMode: true, promiscMode: true });
