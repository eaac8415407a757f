"""An agency's own Kafka client, written with aiokafka (an independent implementation of the protocol).

usage:
  agency_client.py respond BOOTSTRAP AGENCY ACTION TASK_ID [JSON_FIELDS]
      produces vn.tipwire.response.ACTION.v1 to tipwire.responses.AGENCY (CloudEvents binary mode,
      idempotent producer, keyed by the task) and prints its ce_id.
  agency_client.py await BOOTSTRAP TOPIC KEY CE_TYPE
      reads TOPIC in a consumer group until an event of CE_TYPE keyed KEY arrives; prints its data.
"""
import asyncio
import datetime
import json
import sys
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def respond(bootstrap, agency, action, task_id, fields):
    data = {"task_id": task_id, **json.loads(fields or "{}")}
    ce_id = str(uuid.uuid4())
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", ce_id.encode()),
        ("ce_source", f"/agencies/{agency}".encode()),
        ("ce_type", f"vn.tipwire.response.{action}.v1".encode()),
        ("ce_time", datetime.datetime.now(datetime.timezone.utc).isoformat().encode()),
        ("ce_subject", f"tasks/{task_id}".encode()),
        ("content-type", b"application/json"),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            f"tipwire.responses.{agency}", json.dumps(data, ensure_ascii=False).encode(), key=task_id.encode(), headers=headers)
    finally:
        await producer.stop()
    print(ce_id)
    return 0


async def wait_for(bootstrap, topic, key, ce_type):
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"newsroom-{uuid.uuid4()}", auto_offset_reset="earliest")
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            while True:
                batches = await consumer.getmany(timeout_ms=1000)
                for messages in batches.values():
                    for message in messages:
                        headers = {name: value.decode() for name, value in message.headers}
                        if message.key and message.key.decode() == key and headers.get("ce_type") == ce_type:
                            print(message.value.decode())
                            return 0
    except TimeoutError:
        print(f"no {ce_type} keyed {key} on {topic} within 60 s", file=sys.stderr)
        return 1
    finally:
        await consumer.stop()


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "respond":
        sys.exit(asyncio.run(respond(*sys.argv[2:6], sys.argv[6] if len(sys.argv) > 6 else "")))
    sys.exit(asyncio.run(wait_for(*sys.argv[2:6])))
