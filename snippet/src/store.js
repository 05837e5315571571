// localStorage behind the consent gate. Reading is always allowed (it stores
// nothing); every write names the purpose it needs and is dropped without it.
// Keys: perso:<site>:<name> (see docs/notes/browser-runtime.md for the list).

export function makeStore(site, consent) {
  const prefix = `perso:${site}:`;
  let ls = null;
  try {
    ls = window.localStorage;
    ls.getItem(prefix); // throws in some privacy modes
  } catch {
    ls = null;
  }
  return {
    get(name) {
      if (!ls) return null;
      try {
        const raw = ls.getItem(prefix + name);
        return raw ? JSON.parse(raw) : null;
      } catch {
        return null; // a corrupt entry is treated as absent, never as an error
      }
    },
    // purpose: "analytics", "personalization" or "any"
    set(name, value, purpose) {
      if (!ls || !consent.allows(purpose)) return false;
      try {
        ls.setItem(prefix + name, JSON.stringify(value));
        return true;
      } catch {
        return false; // quota: the page goes on without the write
      }
    },
    del(name) {
      if (ls) try { ls.removeItem(prefix + name); } catch { /* nothing to do */ }
    },
    wipe() {
      if (!ls) return;
      try {
        const doomed = [];
        for (let i = 0; i < ls.length; i++) {
          const k = ls.key(i);
          if (k && k.startsWith(prefix)) doomed.push(k);
        }
        for (const k of doomed) ls.removeItem(k);
      } catch { /* storage gone: nothing left to wipe */ }
    },
  };
}
