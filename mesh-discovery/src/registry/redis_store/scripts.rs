//! The Lua scripts that make every change of the Redis store atomic.
//!
//! Why scripts rather than MULTI: a change depends on what is there (is the instance new? did its
//! fields change? is its key already gone?), and a script reads and writes in one step that no
//! other replica can interleave with, so two replicas racing never lose a version bump nor both
//! count the same change. `redis::Script` sends `EVALSHA` and falls back to `EVAL` when Redis has
//! forgotten the script (after a restart), so nothing needs loading up front.
//!
//! Keys, under the configured prefix `P` (service names hold no `:`, so the keys are unambiguous):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `P version` | string | the global version (`INCR`) |
//! | `P changed` | hash | service → global version of its last change (kept forever, like the memory store) |
//! | `P services` | set | services whose index is not empty |
//! | `P index:{service}` | set | addresses registered under the service |
//! | `P instance:{service}:{address}` | string, `PX ttl` | the instance as JSON |
//! | `P changes` | pub/sub channel | the new global version, after every change |
//!
//! An index entry whose instance key has expired is *reaped*: removed from the index with one
//! version bump per entry. Reaping runs in the sweep and also at the start of every read of a
//! service, so a reader never sees a list without its expired hosts at a version that predates
//! their expiry: what is listed and the version always agree, as in the memory store.
//!
//! The scripts build per-service keys from the prefix at run time, so they suit one Redis (or a
//! primary with replicas), not Redis Cluster.

use redis::Script;

/// Helpers every script starts with; `ARGV[1]` is always the key prefix.
const LIB: &str = r"
local prefix = ARGV[1]
local function index_key(service) return prefix .. 'index:' .. service end
local function instance_key(service, addr) return prefix .. 'instance:' .. service .. ':' .. addr end
local function bump(service)
  local v = redis.call('INCR', prefix .. 'version')
  redis.call('HSET', prefix .. 'changed', service, v)
  return v
end
local function announce(v) redis.call('PUBLISH', prefix .. 'changes', v) end
local function forget_if_empty(service)
  if redis.call('SCARD', index_key(service)) == 0 then redis.call('SREM', prefix .. 'services', service) end
end
-- Removes the service's index entries whose key has expired, one bump each: the number removed
-- and the last version (false when none).
local function reap(service)
  local index, removed, last = index_key(service), 0, false
  for _, addr in ipairs(redis.call('SMEMBERS', index)) do
    if redis.call('EXISTS', instance_key(service, addr)) == 0 then
      redis.call('SREM', index, addr)
      removed = removed + 1
      last = bump(service)
    end
  end
  forget_if_empty(service)
  return removed, last
end
";

/// `ARGV`: prefix, service, address, instance JSON, TTL in ms. Returns `{created, version}`.
const REGISTER: &str = r"
local service, addr, record, ttl = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = instance_key(service, addr)
local old = redis.call('GET', key)
redis.call('SET', key, record, 'PX', ttl)
redis.call('SADD', index_key(service), addr)
redis.call('SADD', prefix .. 'services', service)
if old == record then
  return {0, tonumber(redis.call('GET', prefix .. 'version') or '0')}
end
local v = bump(service)
announce(v)
if old then return {0, v} end
return {1, v}
";

/// `ARGV`: prefix, service, address. Returns `{existed, version}`; an entry that had expired but
/// was not reaped yet is not found, yet its removal is still counted once (it is an expiry).
const DEREGISTER: &str = r"
local service, addr = ARGV[2], ARGV[3]
local existed = redis.call('DEL', instance_key(service, addr))
local indexed = redis.call('SREM', index_key(service), addr)
forget_if_empty(service)
if existed == 0 and indexed == 0 then return {0, 0} end
local v = bump(service)
announce(v)
return {existed, v}
";

/// `ARGV`: prefix, then the services. Returns, per service, `{changed, {instance JSON...}}`.
const SNAPSHOT: &str = r"
local out, last = {}, false
for i = 2, #ARGV do
  local service = ARGV[i]
  local _, reaped = reap(service)
  if reaped then last = reaped end
  local records = {}
  for _, addr in ipairs(redis.call('SMEMBERS', index_key(service))) do
    local record = redis.call('GET', instance_key(service, addr))
    if record then records[#records + 1] = record end
  end
  out[#out + 1] = {redis.call('HGET', prefix .. 'changed', service) or '0', records}
end
if last then announce(last) end
return out
";

/// `ARGV`: prefix, service. Reaps one service: returns how many entries went.
const REAP: &str = r"
local removed, last = reap(ARGV[2])
if last then announce(last) end
return removed
";

/// The store's scripts, hashed once.
#[derive(Debug)]
pub(super) struct Scripts {
    pub register: Script,
    pub deregister: Script,
    pub snapshot: Script,
    pub reap: Script,
}

impl Scripts {
    pub fn new() -> Self {
        let with_lib = |body: &str| Script::new(&format!("{LIB}{body}"));
        Scripts {
            register: with_lib(REGISTER),
            deregister: with_lib(DEREGISTER),
            snapshot: with_lib(SNAPSHOT),
            reap: with_lib(REAP),
        }
    }
}
