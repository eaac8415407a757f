"""An independent Kafka client for the interop tests (aiokafka has its own protocol code).

usage: aiokafka_interop.py BOOTSTRAP consume TOPIC GROUP COUNT   -> prints JSON lines
       aiokafka_interop.py BOOTSTRAP produce TOPIC COUNT
"""
import asyncio
import json
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def consume(bootstrap, topic, group, count):
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    received = []
    try:
        while len(received) < count:
            batches = await consumer.getmany(timeout_ms=1000)
            for partition, messages in batches.items():
                for message in messages:
                    received.append(
                        {
                            "partition": partition.partition,
                            "offset": message.offset,
                            "key": message.key.decode() if message.key is not None else None,
                            "value": message.value.decode(),
                            "headers": {key: value.decode() for key, value in message.headers},
                        }
                    )
        await consumer.commit()
    finally:
        await consumer.stop()
    for item in received:
        print(json.dumps(item))


async def produce(bootstrap, topic, count):
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for index in range(count):
            await producer.send_and_wait(
                topic,
                key=f"key-{index % 3}".encode(),
                value=f"from-python-{index}".encode(),
                headers=[("ce_id", f"py-{index}".encode()), ("ce_source", b"aiokafka")],
            )
    finally:
        await producer.stop()


def main():
    bootstrap, mode = sys.argv[1], sys.argv[2]
    if mode == "consume":
        work = consume(bootstrap, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        work = produce(bootstrap, sys.argv[3], int(sys.argv[4]))
    asyncio.run(asyncio.wait_for(work, timeout=90))


if __name__ == "__main__":
    main()
