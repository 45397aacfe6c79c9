/**
 * The version reported by `/v1/health`. Letta Code warns below 0.16.6, so Cairn reports the Letta API level it
 * implements (0.16.8) followed by its own build, not its own package version alone.
 */
export const LETTA_API_LEVEL = '0.16.8';
export const CAIRN_VERSION = '0.1.0';
export const HEALTH_VERSION = LETTA_API_LEVEL;
