"""Reads tipwire task topics as an agency would, with aiokafka (an independent Kafka client):
a consumer group, committed offsets, CloudEvents binary-mode headers.

usage: agency_consumer.py BOOTSTRAP GROUP FINDING_ID TOPIC...
Prints one JSON line per task.assigned event of FINDING_ID and exits 0 once every topic
delivered one, or 1 after 60 s.
"""
import asyncio
import json
import sys

from aiokafka import AIOKafkaConsumer


async def main(bootstrap, group, finding_id, topics):
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    waiting = set(topics)
    seen_ids = set()
    try:
        async with asyncio.timeout(60):
            while waiting:
                batches = await consumer.getmany(timeout_ms=1000)
                for partition, messages in batches.items():
                    for message in messages:
                        headers = {key: value.decode() for key, value in message.headers}
                        if message.key is None or message.key.decode() != finding_id:
                            continue
                        if headers.get("ce_id") in seen_ids:
                            continue  # at-least-once delivery: deduplicate by ce_id
                        seen_ids.add(headers.get("ce_id"))
                        data = json.loads(message.value)
                        print(json.dumps({
                            "topic": message.topic, "ce_type": headers.get("ce_type"), "ce_id": headers.get("ce_id"),
                            "task": data["task"]["id"], "agency": data["task"]["agency"],
                            "documents": [document["url"] for document in data["documents"]],
                        }, ensure_ascii=False))
                        waiting.discard(message.topic)
                await consumer.commit()
    except TimeoutError:
        print(f"timed out; nothing for {finding_id} on {sorted(waiting)}", file=sys.stderr)
        return 1
    finally:
        await consumer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])))
