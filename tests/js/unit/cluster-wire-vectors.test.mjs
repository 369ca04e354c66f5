// cluster_wire.json (FORMAT.md §20) through the npm package: every `TSCX`
// message and `TSCR` 2PC record decodes to its kind and encodes back to the
// same bytes, the all-in-one frame holds every message in order, and every
// damaged frame is refused with CorruptData.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterWire, TablesyncError } from 'tablesync';
import { fromHex, loadVectors, toHex } from '../helpers/vectors.mjs';

const v = loadVectors('cluster_wire.json');

test('cluster_wire.json has every message kind and record kind', () => {
  assert.equal(v.messages.length, 19);
  assert.equal(v.txn_records.length, 5);
  assert.ok(v.invalid.length >= 6);
});

for (const c of v.messages) {
  test(`cluster message ${c.name}: decodes to its kind and encodes back`, () => {
    const bytes = fromHex(c.frame_hex);
    assert.deepEqual(clusterWire.messageKinds(bytes), [c.name]);
    assert.equal(toHex(clusterWire.reencodeMessages(bytes)), c.frame_hex);
  });
}

test('the all-in-one frame holds every sample in order', () => {
  const bytes = fromHex(v.all_in_one_frame_hex);
  assert.deepEqual(clusterWire.messageKinds(bytes), v.messages.map((m) => m.name));
  assert.equal(toHex(clusterWire.reencodeMessages(bytes)), v.all_in_one_frame_hex);
});

for (const c of v.txn_records) {
  test(`2PC record ${c.name}: decodes to its kind and encodes back`, () => {
    const bytes = fromHex(c.frame_hex);
    assert.equal(clusterWire.txnRecordKind(bytes), c.name);
    assert.equal(toHex(clusterWire.reencodeTxnRecord(bytes)), c.frame_hex);
  });
}

for (const c of v.invalid) {
  test(`a damaged cluster frame is refused: ${c.why}`, () => {
    assert.throws(
      () => clusterWire.messageKinds(fromHex(c.frame_hex)),
      (e) => e instanceof TablesyncError && e.code === c.error,
    );
  });
}

test('a message frame is not a 2PC record, and the other way round', () => {
  assert.throws(() => clusterWire.txnRecordKind(fromHex(v.messages[0].frame_hex)),
    (e) => e instanceof TablesyncError && e.code === 'CorruptData');
  assert.throws(() => clusterWire.messageKinds(fromHex(v.txn_records[0].frame_hex)),
    (e) => e instanceof TablesyncError && e.code === 'CorruptData');
});

// cluster_moves.json (FORMAT.md §20.2): rebalance messages, tag 19.
const moves = loadVectors('cluster_moves.json');

test('cluster_moves.json has its samples', () => {
  assert.ok(moves.messages.length >= 9);
  assert.ok(moves.invalid.length >= 4);
});

for (const c of moves.messages) {
  test(`rebalance message ${c.name}: decodes to a move and encodes back`, () => {
    const bytes = fromHex(c.frame_hex);
    assert.deepEqual(clusterWire.messageKinds(bytes), ['move']);
    assert.equal(toHex(clusterWire.reencodeMessages(bytes)), c.frame_hex);
  });
}

for (const c of moves.invalid) {
  test(`a damaged rebalance frame is refused: ${c.why}`, () => {
    assert.throws(
      () => clusterWire.messageKinds(fromHex(c.frame_hex)),
      (e) => e instanceof TablesyncError && e.code === c.error,
    );
  });
}
