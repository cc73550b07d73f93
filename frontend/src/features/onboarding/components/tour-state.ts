/** Where the tour's state is kept for a person: "pending" until they finish or dismiss it. */
export const tourKey = (userId: number) => `angie.tour.${userId}`;

/** The event that tells a tour already on the page to open. */
export const TOUR_STARTED = "angie:tour-started";

/** Start the tour for a person (once their interview is over). */
export function startTour(userId: number) {
  localStorage.setItem(tourKey(userId), "pending");
  window.dispatchEvent(new Event(TOUR_STARTED));
}
