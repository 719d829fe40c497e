"""SQLAlchemy 2 typed models. Every model module is imported here so that
``Base.metadata`` is complete for Alembic and for the models/migrations agreement test."""

from gateway.models.base import Base

__all__ = ["Base"]
