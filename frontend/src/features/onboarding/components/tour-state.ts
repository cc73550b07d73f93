/** Where the tour's state is kept for a person: "pending" until they finish or dismiss it. */
export const tourKey = (userId: number) => `angie.tour.${userId}`;

/** Start the tour for a person (once their interview is over). */
export function startTour(userId: number) {
  localStorage.setItem(tourKey(userId), "pending");
}
