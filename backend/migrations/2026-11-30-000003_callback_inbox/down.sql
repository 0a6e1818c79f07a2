DROP TABLE callback_inbox;
