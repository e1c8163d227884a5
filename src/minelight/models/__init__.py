from .registry import create_model, list_models, model_config, register_model
from .student import Student, StudentConfig
from .teacher import Teacher, TeacherConfig

__all__ = [
    "Student", "StudentConfig", "Teacher", "TeacherConfig",
    "create_model", "list_models", "model_config", "register_model",
]
