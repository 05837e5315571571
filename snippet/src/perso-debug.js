// perso-debug.js, the debugger as the CDN serves it next to perso.js (loaded by
// perso.debug(true) or ?perso_debug=1, never before): it hands openDebugger to perso.js.

import { openDebugger } from "./debug.js";

window.__persoDebugUI = openDebugger;
