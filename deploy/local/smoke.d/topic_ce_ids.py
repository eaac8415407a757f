"""Reads a whole topic as an agency would, with aiokafka in a new consumer group from the beginning,
and prints the distinct CloudEvents ids it holds (of one type, if given), one per line.

usage: topic_ce_ids.py BOOTSTRAP GROUP TOPIC [CE_TYPE]
Exits 0 once every partition is read to its end, or 1 after 120 s.
"""
import asyncio
import sys

from aiokafka import AIOKafkaConsumer


async def main(bootstrap, group, topic, ce_type):
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    ids = set()
    try:
        async with asyncio.timeout(120):
            ends = None
            while True:
                batches = await consumer.getmany(timeout_ms=500)
                for _, messages in batches.items():
                    for message in messages:
                        headers = {key: value.decode() for key, value in message.headers}
                        if ce_type is None or headers.get("ce_type") == ce_type:
                            ids.add(headers.get("ce_id"))
                assigned = consumer.assignment()
                if not assigned:
                    continue
                if ends is None:
                    ends = await consumer.end_offsets(list(assigned))
                if all([await consumer.position(partition) >= end for partition, end in ends.items()]):
                    break
            await consumer.commit()
    except TimeoutError:
        print(f"{topic}: not read to its end within 120 s", file=sys.stderr)
        return 1
    finally:
        await consumer.stop()
    for ce_id in sorted(ids):
        print(ce_id)
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) == 5 else None)))
