import { Crons } from "../components/crons";
import { EventList } from "../components/event-list";

export function EventsPage() {
  return (
    <section className="grid max-w-4xl gap-6">
      <h1 className="text-xl font-semibold">Events</h1>
      <Crons />
      <EventList />
    </section>
  );
}
