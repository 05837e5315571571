// @perso/browser/react: one hook for React apps (react is an optional peer dependency).
//
//   const banner = usePersoSlot("banner");   // null until the first decision
//   return <div>{banner && banner.content ? banner.content.text : "Free returns on every order"}</div>;
//
// The component renders again when this slot's decision changes (decisions keep their
// identity while unchanged) and when a new view is decided (perso.page()). Once the
// decision is on the screen (after the commit) the hook tells perso the slot was shown,
// which records its exposure once per view (init({apply: "none"})); a slot that stays
// on the screen across a route change is shown again in the new view. Pass
// {shown: false} to call perso.shown(slot) yourself.

import { useCallback, useEffect, useSyncExternalStore } from "react";
import { perso as installed } from "./module.js";

// The view of the last decision, per perso object (one listener each, kept for the page).
const views = new WeakMap();
function viewTracker(perso) {
  let t = views.get(perso);
  if (!t) {
    t = { view: null };
    views.set(perso, t);
    perso.on("decision", (detail) => { t.view = detail.view; });
  }
  return t;
}

export function usePersoSlot(slot, options) {
  const perso = (options && options.perso) || installed;
  const auto = !(options && options.shown === false);
  const tracker = viewTracker(perso);
  const subscribe = useCallback((changed) => {
    perso.on("decision", changed);
    return () => perso.off("decision", changed);
  }, [perso]);
  const decision = useSyncExternalStore(subscribe, () => perso.get(slot), () => null);
  const view = useSyncExternalStore(subscribe, () => tracker.view, () => null);
  useEffect(() => {
    if (auto && decision) perso.shown(slot);
  }, [perso, slot, decision, view, auto]);
  return decision;
}
