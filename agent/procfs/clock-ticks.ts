import { getconf } from './getconf.js';

/** USER_HZ, the unit of /proc CPU times: 100 on every mainstream Linux build. */
export const clockTicksPerSecond = (): number => getconf('CLK_TCK', 100);
