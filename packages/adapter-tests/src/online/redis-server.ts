// Real redis-server / Redis Cluster test helpers on free loopback ports (owned by the online-redis work).
export {}
