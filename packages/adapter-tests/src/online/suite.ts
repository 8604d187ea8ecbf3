// Online-store conformance suite (owned by the online-sink work).
export {}
