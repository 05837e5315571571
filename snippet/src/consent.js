// Consent: explicit perso.consent() > an earlier explicit choice (stored only once
// something was granted) > IAB TCF v2.2 (the CMP's last answer stands in until it
// answers again) > Global Privacy Control > nothing granted.
//
// TCF v2.2 mapping (purpose numbers from the IAB policy):
//   storage         = purpose 1 (store and/or access information on a device)
//   personalization = purposes 1 + 5 + 6 (create / use profiles to personalise content)
//   analytics       = purposes 1 + 8 (measure content performance)
// Only when gdprApplies is true and the CMP reports tcloaded or useractioncomplete.
// GPC (navigator.globalPrivacyControl === true) turns TCF grants into opt-out: only an
// explicit perso.consent({...: true}) grants anything then.

const NONE = { analytics: false, personalization: false };

export function tcfToConsent(tc) {
  if (!tc || tc.gdprApplies !== true) return null;
  if (tc.eventStatus !== "tcloaded" && tc.eventStatus !== "useractioncomplete") return null;
  const c = (tc.purpose && tc.purpose.consents) || {};
  const p1 = c[1] === true;
  return {
    analytics: p1 && c[8] === true,
    personalization: p1 && c[5] === true && c[6] === true,
  };
}

export function makeConsent(nav, stored, onChange) {
  const gpc = !!(nav && nav.globalPrivacyControl === true);
  const remembered = stored && typeof stored === "object" ? stored : null;
  let explicit = remembered && remembered.source !== "tcf" ? norm(remembered) : null;
  // A CMP answers asynchronously; the choice it gave last time stands in until it does,
  // so a repeat view can use the instant path. Its next answer replaces it either way.
  let tcf = remembered && remembered.source === "tcf" ? norm(remembered) : null;
  let state = compute();

  function norm(c) {
    return { analytics: c.analytics === true, personalization: c.personalization === true };
  }
  function compute() {
    if (explicit) return { ...explicit, source: "explicit" };
    if (tcf && !gpc) return { ...tcf, source: "tcf" };
    return { ...NONE, source: gpc ? "gpc" : "default" };
  }
  function update() {
    const before = state;
    state = compute();
    if (before.analytics !== state.analytics || before.personalization !== state.personalization) {
      onChange(state, before);
    }
  }
  return {
    gpc,
    get state() { return state; },
    allows(purpose) {
      if (purpose === "any") return state.analytics || state.personalization;
      return state[purpose] === true;
    },
    explicit(c) { explicit = norm(c || {}); update(); },
    tcf(tc) {
      const mapped = tcfToConsent(tc);
      if (!mapped) return;
      tcf = mapped;
      update();
    },
    clearExplicit() { explicit = null; update(); },
    listenTcf(win) {
      if (typeof win.__tcfapi !== "function") return false;
      try {
        win.__tcfapi("addEventListener", 2, (tc, ok) => { if (ok) this.tcf(tc); });
        return true;
      } catch {
        return false;
      }
    },
  };
}
