// The worker message protocol, mirrored from snippet/PROTOCOL.md (the one written
// definition). Both the page runtime and the worker import these names, so a typo
// is a build error rather than a silently ignored message.

// page -> worker
export const INIT = "init"; // {type, runtime, cdn, site, storage, snapshot, preview}
export const DECIDE = "decide"; // {type, id, signals, profile, now}
export const STORAGE = "storage"; // {type, allowed}: Cache Storage writes allowed or not
export const WIPE = "wipe"; // {type}: delete everything perso put in Cache Storage
export const EXPLAIN = "explain"; // {type, ref, decide}: the debugger asks why decision `decide` came out so
export const LEAVE = "leave"; // {type}: this page is going away (a shared worker stops counting its consent)

// worker -> page
export const READY = "ready"; // {type, version, site, slots, source, timings}
export const DECISION = "decision"; // {type, id, version, result, decide_ms, stats}
export const UPDATE = "update"; // {type, version, slots}: a newer artifact replaced the one in use
export const ERROR = "error"; // {type, id, stage, message}
export const EXPLANATION = "explanation"; // {type, ref, result}: the answer to EXPLAIN

export const PROTOCOL_VERSION = 1;
