// @ortline/gateway/config: the gateway's configuration without the server: the option table,
// flags, files, CONFIG.md, the logger. Loads no native module, so that a command line can print
// help or a resolved configuration without ONNX Runtime or uWebSockets.js.
export { renderConfigMarkdown } from './config/doc.js';
export { loadCliConfig, type ParsedArgs, parseArgs, redacted, SHORT_FLAGS } from './config/flags.js';
export { ConfigError, type ConfigSources, defaultConfig, resolveConfig } from './config/load.js';
export { flagOf, type GatewayConfig, type GatewayConfigInput, OPTIONS, type OptionSpec } from './config/options.js';
export { createLogger } from './log.js';
export { GATEWAY_VERSION } from './version.js';
