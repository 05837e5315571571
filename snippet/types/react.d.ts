// Types of @perso/browser/react.
import type { Perso, SlotDecision } from "./index.js";

export interface UsePersoSlotOptions {
  /** false: do not record the exposure when the decision is on the screen; call
   * perso.shown(slot) yourself. Default true. */
  shown?: boolean;
  /** Another perso object than the one this package installed (tests). */
  perso?: Perso;
}

/** What a component renders for its slot (usePersoState). Frozen. */
export interface PersoSlotState {
  /** The decision to render, or null: render the default. */
  readonly decision: SlotDecision | null;
  /** true: the view is not decided yet (at most init's `hide` ms): hide the slot or render
   * a placeholder. Never true for a component already showing content. */
  readonly pending: boolean;
}

/** {decision, pending} for the slot. A component that mounts while the view is pending
 * gets pending: true (never another view's decision); one already on the screen keeps
 * what it shows until the new view is decided. A component that waited past the budget
 * shows its default for the rest of the view, even if the decision comes later. The
 * exposure is recorded once this view's decision is on the screen. */
export declare function usePersoState(slot: string, options?: UsePersoSlotOptions): PersoSlotState;

/** The slot's decision for this view, or null (render the default): null, not another
 * view's decision, while a new view is pending for a component that mounts then; a
 * decision arriving after the budget is shown when it comes. The component renders
 * again when it changes, and the exposure is recorded once it is on the screen. */
export declare function usePersoSlot(slot: string, options?: UsePersoSlotOptions): SlotDecision | null;
