// localStorage behind the consent gate. Reading is always allowed (it stores
// nothing); every write names the purpose it needs and is dropped without it.
// Keys: perso:<site>:<name> (see docs/notes/browser-runtime.md for the list).
// The one exception is the pending erase request (`e`, PENDING_ERASE): written without
// consent, because carrying out the visitor's own request to erase needs it, and kept
// by wipe() until the server confirmed the erase.

export const PENDING_ERASE = "e";

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
    // purpose: "analytics", "personalization" or "any"; "erase" only for PENDING_ERASE
    set(name, value, purpose) {
      const allowed = purpose === "erase" ? name === PENDING_ERASE : consent.allows(purpose);
      if (!ls || !allowed) return false;
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
          if (k && k.startsWith(prefix) && k !== prefix + PENDING_ERASE) doomed.push(k);
        }
        for (const k of doomed) ls.removeItem(k);
      } catch { /* storage gone: nothing left to wipe */ }
    },
  };
}
