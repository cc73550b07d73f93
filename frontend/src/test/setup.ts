import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

import { fakeFetch } from "./fake-angie";

// The API client keeps the fetch it was built with: route it to the test's fake Angie.
globalThis.fetch = fakeFetch as typeof fetch;

afterEach(() => cleanup());
