// Callbacks by event name, for perso.on/off and the debugger. A callback that throws is
// reported through `onError` and never stops the others; one removed while an event is
// being delivered still gets that event (the list is copied on removal, not in place).

export function makeEmitter(names, onError) {
  const lists = {};
  for (const n of names) lists[n] = [];
  return {
    has: (name) => Object.prototype.hasOwnProperty.call(lists, name),
    on(name, cb) { lists[name] = lists[name].concat(cb); },
    off(name, cb) { lists[name] = lists[name].filter((f) => f !== cb); },
    emit(name, arg) {
      for (const cb of lists[name]) {
        try { cb(arg); } catch (e) { onError(e); }
      }
    },
    // The callbacks of `name`, removed (for one-shot events such as "ready").
    take(name) { const l = lists[name]; lists[name] = []; return l; },
  };
}
