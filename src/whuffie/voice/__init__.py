"""What the community says: language, sentiment, concerns, buzz, the inbox, advocates and detractors."""
