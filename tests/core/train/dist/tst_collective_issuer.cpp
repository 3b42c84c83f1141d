// CollectiveIssuer: tasks run on one thread of its own, in the order they were posted; drain()
// returns once every posted task has run, rethrows the first failure (and the tasks after it
// are skipped: their order against other ranks is lost), and the issuer is usable again after;
// destruction runs what is still queued before the thread ends.
#include "core/train/dist/CollectiveIssuer.h"

#include <QtTest>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace meshwork;

class TestCollectiveIssuer : public QObject {
    Q_OBJECT
private slots:
    void runsInOrderOnItsOwnThread()
    {
        CollectiveIssuer issuer(c10::Device(c10::DeviceType::CPU));
        std::mutex m;
        std::vector<int> order;
        std::vector<std::thread::id> threads;
        for (int i = 0; i < 200; ++i)
            issuer.post([&, i] {
                std::lock_guard<std::mutex> lock(m);
                order.push_back(i);
                threads.push_back(std::this_thread::get_id());
            });
        issuer.drain();
        QVERIFY(issuer.ran(200));
        QVERIFY(!issuer.ran(201));
        QCOMPARE(int(order.size()), 200);
        for (int i = 0; i < 200; ++i) QCOMPARE(order[size_t(i)], i);
        for (const auto& id : threads) {
            QVERIFY(id != std::this_thread::get_id());
            QVERIFY(id == threads.front());
        }
    }

    void drainWaitsForTheRunningTask()
    {
        CollectiveIssuer issuer(c10::Device(c10::DeviceType::CPU));
        std::atomic<bool> done{false};
        issuer.post([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            done = true;
        });
        issuer.drain();
        QVERIFY(done);
        issuer.drain(); // nothing posted: returns at once
    }

    void firstFailureRethrownRestSkipped()
    {
        CollectiveIssuer issuer(c10::Device(c10::DeviceType::CPU));
        std::atomic<int> ran{0};
        issuer.post([&] { ++ran; });
        issuer.post([] { throw std::runtime_error("NCCL error: unhandled system error"); });
        issuer.post([&] { ++ran; });
        try {
            issuer.drain();
            QFAIL("expected the task's error");
        } catch (const std::runtime_error& e) {
            QCOMPARE(QString(e.what()), QString("NCCL error: unhandled system error"));
        }
        QCOMPARE(ran.load(), 1);
        // Reported once; what is posted afterwards runs.
        issuer.post([&] { ++ran; });
        issuer.drain();
        QCOMPARE(ran.load(), 2);
    }

    void destructionRunsWhatIsQueued()
    {
        std::atomic<int> ran{0};
        {
            CollectiveIssuer issuer(c10::Device(c10::DeviceType::CPU));
            for (int i = 0; i < 10; ++i)
                issuer.post([&] {
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                    ++ran;
                });
        }
        QCOMPARE(ran.load(), 10);
    }
};

QTEST_APPLESS_MAIN(TestCollectiveIssuer)
#include "tst_collective_issuer.moc"
