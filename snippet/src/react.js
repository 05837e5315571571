// @perso/browser/react: hooks for React apps (react is an optional peer dependency).
//
//   const { decision, pending } = usePersoState("hero");   // wait for this view's decision
//   if (pending) return <HeroPlaceholder />;               // at most init's `hide` ms
//   return <h1>{decision && decision.content ? decision.content.text : "Welcome"}</h1>;
//
//   const banner = usePersoSlot("banner");                 // the decision, or null: the default
//
// Both follow perso.state(slot) (this view's decision, or pending while the view is not
// decided yet) with one rule per mounted component: what it shows never changes while a
// new view is pending. So a slot that stays on the screen across a route change keeps its
// content until the new view's decision replaces it (the same object when unchanged: no
// re-render), and a component that mounts while the view is pending never gets another
// view's decision: usePersoState reports pending (render a placeholder), usePersoSlot
// null (render the default).
//
// After the budget: a usePersoState component that waited shows its default
// ({decision: null, pending: false}) and keeps it for the rest of the view, even if the
// decision arrives later (no change after its first paint; the next view, usually from
// the device cache, shows it). usePersoSlot, which never waits, shows a late decision
// when it comes, as apply: "dom" does.
//
// Once this view's decision is on the screen (after the commit) the hook tells perso the
// slot was shown, which records its exposure once per view (init({apply: "none"})); a
// slot that stays on the screen across a route change is shown again in the new view.
// Pass {shown: false} to call perso.shown(slot) yourself.

import { useCallback, useEffect, useRef, useSyncExternalStore } from "react";
import { perso as installed } from "./module.js";

const OFF = Object.freeze({ decision: null, pending: false, view: null }); // server rendering
const PENDING = Object.freeze({ decision: null, pending: true });
const NONE = Object.freeze({ decision: null, pending: false });

// What a component shows, from perso.state(slot) `s` and what it showed at its last
// commit `m` ({view, out, locked}, null before its first): [out, the next m].
function settle(m, s, wait) {
  const shown = m && !m.out.pending ? m.out : null; // settled content on the screen
  let out;
  let locked = false;
  if (m && m.locked && m.view === s.view) {
    out = NONE;
    locked = true;
  } else if (s.pending) {
    out = shown || PENDING;
  } else if (s.decision) {
    out = shown && shown.decision === s.decision ? shown : Object.freeze({ decision: s.decision, pending: false });
  } else if (shown) {
    out = shown; // no decision for this view (yet): what is on the screen stays
  } else {
    out = NONE; // the wait ran out: the default, for the rest of this view (usePersoState)
    locked = wait && !!m && m.out.pending;
  }
  return [out, { view: s.view, out, locked }];
}

function useSlot(slot, options, wait) {
  const perso = (options && options.perso) || installed;
  const auto = !(options && options.shown === false);
  const subscribe = useCallback((changed) => {
    perso.on("state", changed);
    return () => perso.off("state", changed);
  }, [perso]);
  const s = useSyncExternalStore(subscribe, () => perso.state(slot), () => OFF);
  const committed = useRef(null);
  const [out, next] = settle(committed.current, s, wait);
  useEffect(() => { committed.current = next; });
  useEffect(() => {
    // Only this view's own decision counts as shown (not one kept from the last view).
    if (auto && out.decision && out.decision === s.decision) perso.shown(slot);
  }, [perso, slot, auto, out, s]);
  return out;
}

/** {decision, pending}: pending while this view is undecided (at most init's `hide` ms). */
export function usePersoState(slot, options) {
  return useSlot(slot, options, true);
}

/** The slot's decision for this view, or null (render the default). */
export function usePersoSlot(slot, options) {
  return useSlot(slot, options, false).decision;
}
