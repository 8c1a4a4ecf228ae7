// The zod schemas the admin pages check their forms with, exactly the ones the admin API parses
// the same fields with (re-exported, never redefined): the dashboard imports them from here, its
// one door into the protocol (it may not reach into engine/ or db/ directly). Browser-safe: zod
// and luxon only.
export { callingWindowSchema } from '../../engine/calling-window.js';
export { dispositionsSchema } from '../../engine/disposition.js';
export { wallboardSettingsSchema } from '../../db/wallboard.js';
export { wallboardLinkBodySchema } from './protocol.js';
export { columnMappingSchema } from '../leads/column-mapping.js';
export { rulePackSchema } from '../../engine/calling-rules.js';
export { PRESET_IDS } from '../../engine/calling-presets.js';
