/** farm's release, as package.json gives it (a test keeps the two equal): the CLI's --version, presence and $SRV INFO. */
export const FARM_VERSION = "0.1.0";
